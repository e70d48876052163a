"""Model code and custom components of the Titanic fairness pipeline."""
