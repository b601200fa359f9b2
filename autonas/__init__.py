"""autonas: neural architecture search for Keras users."""
