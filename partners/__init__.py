"""Trading-partner profiles (one reviewed file per partner) and the registry that validates
and looks them up. The profile format and registry arrive with the gateway issue; the
translators never import this package (the gateway passes partner options in)."""
