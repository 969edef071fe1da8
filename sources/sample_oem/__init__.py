"""The sample OEM: a deterministic synthetic car maker with dealers, owners, vehicles, service
history, WeChat/WeCom state and the ground truth of who is who (``aftercare generate``)."""

from sources.sample_oem.generate import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
