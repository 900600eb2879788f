"""Accounts: sign-up, sign-in and API tokens for participants."""
