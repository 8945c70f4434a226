from testkase_cli.cli.app import main

main()
