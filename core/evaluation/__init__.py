"""Evaluation on the user's own documents: a question set, checks of each answer, saved runs."""
