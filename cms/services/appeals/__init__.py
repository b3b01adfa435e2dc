"""Citizens' appeals (59-FZ): registration, deadlines, the workflow, reports."""
