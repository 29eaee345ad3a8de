"""The worker: the decider and the projectors, as Faust agents."""
