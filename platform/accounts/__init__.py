"""Accounts: sign-up, sign-in, password change and reset, API tokens, and closing an account."""
