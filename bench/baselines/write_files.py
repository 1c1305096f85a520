"""The floor of a build: merely write N files of SIZE bytes, 100 to a folder, each created new.

    python bench/baselines/write_files.py N SIZE OUT

Prints: files, seconds, files per second. Shares no code with civic-contacts.
"""

import os
import sys
import time


def main() -> None:
    count, size, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    data = os.urandom(size)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    start = time.perf_counter()
    folder = ""
    for i in range(count):
        if i % 100 == 0:
            folder = os.path.join(out, f"folder-{i // 100:06d}")
            os.makedirs(folder)
        descriptor = os.open(os.path.join(folder, f"message-{i}.eml"), flags, 0o644)
        os.write(descriptor, data)
        os.close(descriptor)
    seconds = time.perf_counter() - start
    print(f"{count} {seconds:.3f} {count / seconds:.0f}")


if __name__ == "__main__":
    main()
