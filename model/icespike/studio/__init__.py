"""icespike studio: a local web app over the library (training monitor, FPGA tab, synthesis jobs)."""
