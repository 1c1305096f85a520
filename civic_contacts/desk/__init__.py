"""The officers' desk: the registry, releases and sends behind pages in a browser
(`civic-contacts serve`), over the same core as the command line."""
