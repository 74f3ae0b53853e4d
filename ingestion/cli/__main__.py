import sys

from ingestion.cli.main import main

sys.exit(main())
