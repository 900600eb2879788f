"""The submit form: which benchmark, what artefact, how to describe the method."""

from __future__ import annotations

from typing import Any

from django import forms

from benchmarks.models import Benchmark
from submissions.inputs import UploadRejected, check_input
from submissions.models import DESCRIPTION_MAX_CHARS, PARTICIPANT_KINDS, Kind

KIND_HINTS = {
    Kind.PREDICTIONS: "zip of the output folder",
    Kind.IMAGE: "registry reference",
    Kind.TARBALL: "docker save",
}
SUBMIT_KINDS = [(kind.value, f"{kind.label} ({KIND_HINTS[kind]})") for kind in PARTICIPANT_KINDS]


def open_benchmarks() -> Any:
    """Benchmarks that accept submissions: active, with a built current protocol."""
    return Benchmark.objects.filter(is_active=True, versions__is_current=True).distinct()


class SubmissionForm(forms.Form):
    benchmark = forms.ModelChoiceField(queryset=Benchmark.objects.none(), to_field_name="slug", empty_label=None)
    kind = forms.ChoiceField(choices=SUBMIT_KINDS, widget=forms.RadioSelect, initial=Kind.PREDICTIONS.value,
                             label="What you submit")
    image_ref = forms.CharField(required=False, max_length=300, label="Image reference",
                                help_text="e.g. registry.example.org/team/model:1.0")
    artefact = forms.FileField(required=False, label="File",
                               help_text="A predictions zip, or the tar written by `docker save`.")
    phase = forms.SlugField(required=False, max_length=50, label="Phase",
                            help_text="The competition phase to enter (default: the one open now)")
    method_name = forms.CharField(max_length=120, label="Method name")
    description = forms.CharField(required=False, max_length=DESCRIPTION_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 3}))
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
            cleaned["image_ref"], cleaned["artefact"] = check_input(
                kind, benchmark, cleaned.get("image_ref") or "", cleaned.get("artefact"))
        except UploadRejected as exc:
            self.add_error(exc.field, str(exc))
        return cleaned

    def details(self) -> dict[str, Any]:
        """The optional fields for ``create_submission``."""
        return {name: self.cleaned_data[name]
                for name in ("description", "paper_url", "code_url", "is_public", "phase")}
