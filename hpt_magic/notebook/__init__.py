"""The notebook front end: the %%tune magic and its cell parsing, the live dashboard and
the manual-tuning widgets."""
