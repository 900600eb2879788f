"""Code the baselines share: the container contract, image loading, networks, training."""
