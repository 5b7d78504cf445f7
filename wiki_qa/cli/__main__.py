"""`python -m wiki_qa.cli` = `wiki-qa`."""
import sys

from wiki_qa.cli import main

sys.exit(main())
