import Notifier
