"""Commands: thin pipelines over the facts core, one module each."""
