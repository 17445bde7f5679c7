"""Information processing pathway maps: hierarchy, denoisers, graph, JSON export and evaluation."""
