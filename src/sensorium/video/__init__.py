"""Video: segments on the timeline, what is seen, heard and said in each, and summaries."""

from sensorium.video.analysis import VideoAnalysis, VideoSegment, analyze
from sensorium.video.segments import cut_timeline
from sensorium.video.summary import contact_sheet, summary_json

__all__ = [
    "VideoAnalysis",
    "VideoSegment",
    "analyze",
    "contact_sheet",
    "cut_timeline",
    "summary_json",
]
