"""Text for the simulated SMS stream: name pools, templates in English and Swahili, and variation.

All templates here were written for pesaguard; none is taken from any SMS data set.
"""
