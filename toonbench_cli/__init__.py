"""``toonbench``: the command line client of a ToonBench server."""
