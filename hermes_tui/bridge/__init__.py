"""Step 5, "LLM bridge": find the user's OpenAI-compatible router and sync its models.

``router`` talks HTTP to the router (list its models, probe the usual local ports) and
decides which URL the Hermes container must call; ``sync`` writes the models into the
profile's ``config.yaml`` in Hermes's own format and reads back what the file says, so a
badge turns "Synced" only after the file really holds the model.

Neither module imports Textual; aiohttp and ruamel.yaml are imported inside the functions
that use them (aiohttp alone costs ~320 ms of start-up).
"""
