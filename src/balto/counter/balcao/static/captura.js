// The AudioWorklet that turns the microphone into the counter's wire format: mono (the
// channels averaged), 16-bit little-endian PCM at the context's own rate, posted to the page
// in frames of ``frame`` samples with the frame's RMS for the level meter. Runs on the audio
// thread: no DOM, no imports.

class BaltoCaptura extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frame = options.processorOptions.frame;
    this.novo();
  }

  novo() {
    this.pcm = new Int16Array(this.frame);
    this.cheio = 0;
    this.quadrados = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // no microphone connected (yet)
    const length = channels[0].length;
    for (let i = 0; i < length; i++) {
      let sample = 0;
      for (let c = 0; c < channels.length; c++) sample += channels[c][i];
      sample /= channels.length;
      sample = sample > 1 ? 1 : sample < -1 ? -1 : sample;
      this.pcm[this.cheio++] = sample < 0 ? sample * 0x8000 : sample * 0x7fff;
      this.quadrados += sample * sample;
      if (this.cheio === this.frame) {
        const rms = Math.sqrt(this.quadrados / this.frame);
        this.port.postMessage({ pcm: this.pcm.buffer, rms }, [this.pcm.buffer]);
        this.novo();
      }
    }
    return true;
  }
}

registerProcessor("balto-captura", BaltoCaptura);
