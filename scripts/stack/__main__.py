"""`python scripts/stack <action>`: runs stack.cli (see the package's docstring)."""
import sys
from pathlib import Path

# Run as a folder, Python puts the folder itself first on the path; the package's
# parent (scripts/) is what `import stack` needs.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from stack.cli import main  # noqa: E402

sys.exit(main())
