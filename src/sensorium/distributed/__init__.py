"""Scale-out: ingest on a Ray cluster (Ray Data reads, decodes and embeds on the workers; the
driver plans and commits). Needs the ``ray`` extra: ``pip install 'sensorium[ray]'``."""

from sensorium.distributed.ray_ingest import RayOptions, ray_ingest

__all__ = ["RayOptions", "ray_ingest"]
