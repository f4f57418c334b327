"""The parts of the CS-Cart simulator: one module per entity group, the state, faults, the request log and the
smile_bridge add-on. Use it through ``bridge.cscart.simulator`` (``run_simulator``, ``Simulator``)."""
