"""Speech recognition: the recogniser seam (``base``), the fair whisper pool (``pool``), the
whisper.cpp transcriber (``whisper``) and the offline model converter (``convert``, ``models``)."""
