"""icespike: quantisation-aware training of spiking networks and their bit-exact iCE40 hardware."""

__version__ = "0.1.0"
