"""``python -m clusnet_analysis`` = the ``clusnet`` command."""
import sys

from clusnet_analysis.cli.app import main

sys.exit(main())
