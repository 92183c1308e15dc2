"""The Python side of scripts/bench-spectra-vs-python: ms_entropy's FlashEntropySearch (index built once, then
batch and one-at-a-time queries) and matchms' CosineGreedy (every library spectrum scored per query, as matchms
does), on the same MSP library with the library's own spectra as queries. Prints CSV like `varde-bench spectra`:
method,batch_queries_per_s,single_p50_us,single_p99_us."""
import sys
import time

import numpy as np


def read_msp(path):
    spectra, peaks, meta = [], [], {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                if peaks:
                    spectra.append((meta, np.array(peaks, dtype=np.float32)))
                peaks, meta = [], {}
                continue
            if ":" in line and not line[0].isdigit():
                k, v = line.split(":", 1)
                meta[k.strip().lower()] = v.strip()
            else:
                mz, intensity = line.split()[:2]
                peaks.append((float(mz), float(intensity)))
    if peaks:
        spectra.append((meta, np.array(peaks, dtype=np.float32)))
    return spectra


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    library_path, n_queries, n_matchms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    library = read_msp(library_path)
    queries = library if n_queries <= 0 else library[:n_queries]
    print(f"library {len(library)} spectra; {len(queries)} queries; matchms {n_matchms} queries", file=sys.stderr)
    print("method,batch_queries_per_s,single_p50_us,single_p99_us")

    from ms_entropy import FlashEntropySearch

    # EI has no precursor: every spectrum gets the same dummy precursor above every fragment, so that nothing is
    # removed as "precursor" and identity search compares every library spectrum; nominal-mass tolerance (0.5 Da,
    # peaks merged within 1 Da) and the default 1 % noise threshold, as Varde uses.
    precursor = 5000.0
    search = FlashEntropySearch(max_ms2_tolerance_in_da=0.5)
    search.build_index(
        [{"precursor_mz": precursor, "peaks": p} for _, p in library],
        max_indexed_mz=precursor,
        min_ms2_difference_in_da=1.0,
        clean_spectra=True,
    )
    cleaned = [
        search.clean_spectrum_for_search(precursor_mz=precursor, peaks=p, min_ms2_difference_in_da=1.0) for _, p in queries
    ]
    latencies = []
    started = time.perf_counter()
    for q in cleaned:
        t = time.perf_counter()
        scores = search.identity_search(precursor_mz=precursor, peaks=q, ms1_tolerance_in_da=1.0, ms2_tolerance_in_da=0.5)
        np.argpartition(-scores, 5)[:5]
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    print(f"flash_entropy,{len(cleaned) / elapsed:.0f},{percentile(latencies, 0.5) * 1e6:.1f},{percentile(latencies, 0.99) * 1e6:.1f}")

    from matchms import Spectrum
    from matchms.similarity import CosineGreedy

    lib = [Spectrum(mz=p[:, 0].astype(float), intensities=p[:, 1].astype(float), metadata={"id": m.get("db#", "")}) for m, p in library]
    cosine = CosineGreedy(tolerance=0.5, mz_power=1.0, intensity_power=0.4)
    latencies = []
    started = time.perf_counter()
    for m, p in queries[:n_matchms]:
        t = time.perf_counter()
        q = Spectrum(mz=p[:, 0].astype(float), intensities=p[:, 1].astype(float), metadata={})
        scores = cosine.matrix([q], lib)
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - started
    n = min(n_matchms, len(queries))
    print(f"matchms_cosine_greedy,{n / elapsed:.1f},{percentile(latencies, 0.5) * 1e6:.1f},{percentile(latencies, 0.99) * 1e6:.1f}")


if __name__ == "__main__":
    main()
