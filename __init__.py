from . import octopia_import  # first: the core as `octopia`, one name in every process
from . import models
from . import wizards
