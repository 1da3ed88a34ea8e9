import os
os.environ.setdefault("OMP_NUM_THREADS", "1")

def tone_files(folder, durations, seed, prefix='clip', sr=44100):
    "Short wav files of a random tone plus a little noise, one per duration (seconds): audio for the store tests."
    import numpy as np, soundfile as sf
    rng, out = np.random.default_rng(seed), []
    for i, dur in enumerate(durations):
        n = int(dur*sr); t = np.arange(n)/sr
        y = 0.3*np.sin(2*np.pi*rng.uniform(100, 3000)*t) + 0.05*rng.standard_normal(n)
        sf.write(folder/f'{prefix}{i}.wav', y.astype(np.float32), sr); out.append(folder/f'{prefix}{i}.wav')
    return out
