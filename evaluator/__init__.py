"""Everything that turns a submission's output into the protocol's numbers.

Never imports Django: it runs in workers and in a participant's dev kit.
"""
