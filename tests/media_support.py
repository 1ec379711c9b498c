"""Media files for the lesson-media tests."""
import io
import math
import struct
import wave


def tone_wav(seconds: float = 2.0, rate: int = 8000, amplitude: int = 8000) -> bytes:
    """A mono 16-bit recording of a 440 Hz tone (a phone line's 8 kHz by default)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 440 * n / rate)))
                                 for n in range(int(seconds * rate))))
    return buffer.getvalue()
