"""The submit form: which benchmark, what artefact, how to describe the method."""

from __future__ import annotations

from typing import Any

from django import forms

from benchmarks.models import Benchmark
from submissions.uploads import UploadRejected, check_artefact, check_image_reference

SUBMIT_KINDS = [
    ("predictions", "Predictions archive (zip of the output folder)"),
    ("image", "Container image reference"),
    ("tarball", "Container image tarball (docker save)"),
]


def open_benchmarks() -> Any:
    """Benchmarks that accept submissions: active, with a built current protocol."""
    return Benchmark.objects.filter(is_active=True, versions__is_current=True).distinct()


class SubmissionForm(forms.Form):
    benchmark = forms.ModelChoiceField(queryset=Benchmark.objects.none(), to_field_name="slug", empty_label=None)
    kind = forms.ChoiceField(choices=SUBMIT_KINDS, widget=forms.RadioSelect, initial="predictions",
                             label="What you submit")
    image_ref = forms.CharField(required=False, max_length=300, label="Image reference",
                                help_text="e.g. registry.example.org/team/model:1.0")
    artefact = forms.FileField(required=False, label="File",
                               help_text="A predictions zip, or the tar written by `docker save`.")
    method_name = forms.CharField(max_length=120, label="Method name")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    paper_url = forms.URLField(required=False, max_length=500, label="Paper URL", assume_scheme="https")
    code_url = forms.URLField(required=False, max_length=500, label="Code URL", assume_scheme="https")
    is_public = forms.BooleanField(required=False, initial=True, label="Show on the public leaderboard")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["benchmark"].queryset = open_benchmarks()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        benchmark = cleaned.get("benchmark")
        kind = cleaned.get("kind")
        if benchmark is None or kind is None:
            return cleaned
        try:
            if kind == "image":
                cleaned["image_ref"] = check_image_reference(cleaned.get("image_ref") or "")
                cleaned["artefact"] = None
            else:
                check_artefact(kind, cleaned.get("artefact"), benchmark)
                cleaned["image_ref"] = ""
        except UploadRejected as exc:
            self.add_error("image_ref" if kind == "image" else "artefact", str(exc))
        return cleaned

    def details(self) -> dict[str, Any]:
        """The optional model fields for ``create_submission``."""
        return {name: self.cleaned_data[name] for name in ("description", "paper_url", "code_url", "is_public")}
