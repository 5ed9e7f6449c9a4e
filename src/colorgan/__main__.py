import sys

from colorgan.apps.cli import main

sys.exit(main())
