"""The Titanic fairness pipeline: its definition, evaluation config and run
summary."""
