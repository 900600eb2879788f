"""Results: the numbers a job stored for a submission, their evidence, paired comparisons and who sees what."""
