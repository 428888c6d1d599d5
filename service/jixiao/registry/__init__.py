"""Published pack versions: the registry, the publish gate, signatures."""
