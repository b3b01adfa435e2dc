"""The appeals area: citizens' appeals (59-FZ) and the consent document (152-FZ)."""
