"""A model that needs a package from the package index (requirements.txt): it prints the version of
`six` it imports and where its interpreter lives."""
import sys

import six

print("six %s" % six.__version__, flush=True)
print("interpreter %s" % sys.executable, flush=True)
