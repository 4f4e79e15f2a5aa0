import Metadata
