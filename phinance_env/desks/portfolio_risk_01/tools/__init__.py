"""The risk desk's tools: book-keeping (``books``) and risk analytics (``analytics``)."""
