"""Input validation and adaptation: everything the user hands `fit`/`predict` passes through here
before any training starts."""
