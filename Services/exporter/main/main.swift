import Exporter
