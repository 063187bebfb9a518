from sensorium.cli import main

main()
