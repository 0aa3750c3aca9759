"""Drawing studies: dashboard panels and analysis plots as matplotlib Figures, the JSON study
document, summaries."""
