"""Type aliases and numpy dtypes shared by the entities."""

from __future__ import annotations

import numpy as np

Latency = float
"""A latency in seconds."""
Hexel = int
"""A hexel (cortical source point) id: a vertex number of the source space."""
Sensor = str
"""A sensor name, as MNE calls it (``MEG0111``, ``EEG001``)."""
Channel = Hexel | Sensor
TransformName = str

LatencyDType = np.float64
HexelDType = np.int64
SensorDType = np.str_
TransformNameDType = np.str_
LogPDType = np.float64

# Block names (left, right, scalp, merged) are in kymata_core.entities.hemispheres, with the other
# names of hemispheres, sides and channel spaces.

DIM_HEXEL = "hexel"
DIM_SENSOR = "sensor"
DIM_LATENCY = "latency"
DIM_TRANSFORM = "transform"
