"""The study: ask/tell, the one trial lifecycle, events, storage and exports."""
