import Importer
