"""Conversations: questions and answers with their sources, kept in their own SQLite database."""
