"""The hardware database: CPU power models (``cpus``) and accelerators (``accelerators``)."""
