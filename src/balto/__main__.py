from balto.cli import main

raise SystemExit(main())
